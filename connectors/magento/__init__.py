"""Magento 2 / Adobe Commerce REST connector: invoices, credit memos, orders for context."""
