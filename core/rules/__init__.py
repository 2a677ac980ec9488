"""User-behaviour rules: rule files, the catalog of built-in and user rules, and turn checks.

Owns: `rule_files` (rule kinds, reading rule files, compiling rules into a prompt),
`catalog` (rule sets, persona draws, built-in and user rule folders), `check` (each user
turn checked against the rules in force), `builtin/` (the shipped rule files).
Leaves to others: how a simulator obeys the rules (players) and when turns are checked (engine).
"""
