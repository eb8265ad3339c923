"""The small-talk rule language: rule files, compiler, matcher and bundled rule sets."""
