"""Receipts and notices: signed, machine-readable answers about a document (hồi báo and its relatives)."""
