"""tfexam's service: sessions, watching, grading and pages. Never imports TensorFlow here."""
