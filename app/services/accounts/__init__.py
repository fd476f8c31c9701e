"""Accounts and who may do what.

users    create accounts (admin, operator bound to bases, participant account)
access   the access rules every page, API call and command goes through
audit    the audit trail of every write
passwords  one login check (the same work for any username) and the password policy
sessions   logins as rows: logout, log out everywhere, change password
"""
