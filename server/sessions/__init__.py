"""The exam lifecycle: create -> running -> submitted. The clock lives here."""
