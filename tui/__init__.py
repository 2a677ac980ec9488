"""The curator's workbench: a Textual app over the core, and the `turnloom` console script.

Owns: `launch` (the console script: no command opens the app, any command goes to
`turnloom.core.cli`), `app` (`TurnloomApp`, `build_app`: themes, key remaps, palette, help,
quit), `workbench` (the session being worked on: its engine, journal and file), `actions`
(every action's key, palette entry and help line), `commands`, `rule_sources`, `screens/`
(the main screen and its dialogs), `widgets/` (the panes).
Leaves to others: everything a dialogue is and does (`turnloom.core`), the colour themes
(`turnloom.themes`). It sits on top of the layers: nothing in the core names it.
"""
