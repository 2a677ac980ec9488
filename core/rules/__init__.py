"""User-behaviour rules: rule files, the catalog of built-in and user rules, and turn checks.

Owns: `rule_files` (rule kinds and their parameters, reading rule files), `catalog` (rule
sets, persona draws, built-in and user rule folders), `check` (each user turn checked against
the rules in force, from its text and, when the caller hands it over, what is known of the
domain), `builtin/` (the shipped rule files).
Leaves to others: how a simulator obeys the rules (players), when turns are checked and what
a violation does (engine), which knowledge of the domain the checks get (lifecycle).
"""
