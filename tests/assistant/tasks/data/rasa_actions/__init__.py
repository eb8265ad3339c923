"""Custom actions for a real rasa-sdk action server started by the task tests."""
