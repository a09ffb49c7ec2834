"""Invoices (receipts) of paid orders and credit notes of their refunds: numbered, snapshotted, rendered as PDF."""
