"""Accounts and who may do what.

users    create accounts (admin, operator bound to bases, participant account)
access   the access rules every page, API call and command goes through
audit    the audit trail of every write
"""
