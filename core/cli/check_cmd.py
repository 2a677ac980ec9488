"""`turnloom check --profile NAME`: which capabilities an endpoint really has.

Sends one tiny request per capability (plain chat, streaming, json_object,
json_schema, strict, tools, tool_choice, parallel_tool_calls, seed, reasoning)
and prints a table, then the capability flags to put in the profile.
"""

from __future__ import annotations

import argparse
import asyncio

from turnloom.core.config import load_config
from turnloom.core.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="probe what an endpoint supports",
        description="Send one tiny request per capability to a profile's endpoint and print what it supports.",
    )
    parser.add_argument(
        "--profile", required=True, metavar="NAME", help="the [profiles.NAME] of turnloom.toml to probe"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from turnloom.core.endpoint.probe import probe

    config = load_config(args.config)
    profile = config.profiles.get(args.profile)
    if profile is None:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise UsageError(
            f"no [profiles.{args.profile}] in {config.source or 'any turnloom.toml'}; known profiles: {known}"
        )
    verdict: dict[str, bool] = {}
    down: list[str] = []
    for url in profile.urls:  # a profile with several `base_urls`: each is probed, the flags fit them all
        print(f"# {args.profile}: {url} · model {profile.model}")
        results = asyncio.run(probe(args.profile, profile.model_copy(update={"base_url": url, "base_urls": []})))
        for result in results:
            mark = "yes" if result.supported else "no "
            print(f"  {result.feature:<20} {mark}  {result.detail}".rstrip())
            verdict[result.feature] = verdict.get(result.feature, True) and result.supported
        if results[0].unreachable:
            down.append(f"# {url}: {results[0].detail}")
        elif not any(r.feature == "chat" and r.supported for r in results):
            down.append(f"# {url} did not answer a plain request; check the URL, model and the key")
    if down:
        print("\n".join(down))
        return 1
    flags = ("json_schema", "strict", "json_object", "tool_choice", "parallel_tool_calls", "stream")
    print(f"# suggested flags for [profiles.{args.profile}]:")
    for flag in flags:
        print(f"{flag} = {'true' if verdict.get(flag) else 'false'}")
    return 0
