"""Machine reading comprehension: answers read out of documents, with evidence."""
