"""Clerks' mailboxes: where delivered documents and receipts land."""
