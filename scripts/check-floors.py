#!/usr/bin/env python3
"""Checks that the folders of a Swift module form floors: no folder uses a folder that uses it back.

A name (type, protocol, type alias or free function) declared in one folder and used in another is an
arrow from the user to the declaring folder. The check fails on any circle among the folders, and
prints every arrow, so `docs/ARCHITECTURE.md` can be compared with what the code really does.

    scripts/check-floors.py Sources/ChatBackend Sources/ChatSimulator

A folder is a first-level folder of the module (files directly in the module form the folder "."),
so `Identity/Google/` belongs to `Identity/`. Comments and string literals are ignored.
"""
import re
import sys
from collections import defaultdict
from pathlib import Path

DECLARATION = re.compile(
    r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|internal|private|fileprivate|package|final|indirect|nonisolated)\s+)*"
    r"(?:class|struct|enum|protocol|actor|typealias|func)\s+([A-Za-z_][A-Za-z0-9_]*)"
)


def strip_comments_and_strings(text: str) -> str:
    """The code with comments removed and string literals emptied (interpolations kept)."""
    out, i, n = [], 0, len(text)
    # Each open string literal: (closing quote, parenthesis depth of its interpolation).
    strings = []
    while i < n:
        if strings and strings[-1][1] == 0:
            quote = strings[-1][0]
            if text.startswith("\\(", i):
                strings[-1] = (quote, 1)
                out.append("(")
                i += 2
            elif text[i] == "\\":
                i += 2
            elif text.startswith(quote, i):
                strings.pop()
                out.append('"')
                i += len(quote)
            else:
                i += 1
            continue
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif text.startswith('"""', i) or text[i] == '"':
            quote = '"""' if text.startswith('"""', i) else '"'
            strings.append((quote, 0))
            out.append('"')
            i += len(quote)
        else:
            if strings:
                quote, depth = strings[-1]
                if text[i] == "(":
                    strings[-1] = (quote, depth + 1)
                elif text[i] == ")":
                    strings[-1] = (quote, depth - 1)
                    if depth == 1:
                        i += 1
                        continue
            out.append(text[i])
            i += 1
    return "".join(out)


def folder_of(module: Path, file: Path) -> str:
    parts = file.relative_to(module).parts
    return parts[0] if len(parts) > 1 else "."


def top_level_declarations(text: str):
    """Names declared at nesting depth 0 (types, free functions), with their kind."""
    depth = 0
    for line in text.splitlines():
        if depth == 0:
            match = DECLARATION.match(line)
            if match:
                yield match.group(1)
        depth += line.count("{") - line.count("}")


def arrows(module: Path):
    files = sorted(module.rglob("*.swift"))
    texts = {file: strip_comments_and_strings(file.read_text()) for file in files}
    owner = {}
    for file, text in texts.items():
        for name in top_level_declarations(text):
            owner.setdefault(name, folder_of(module, file))
    edges = defaultdict(set)
    for file, text in texts.items():
        user = folder_of(module, file)
        for word in set(re.findall(r"\b[A-Za-z_][A-Za-z0-9_]*\b", text)):
            target = owner.get(word)
            if target and target != user:
                edges[(user, target)].add(word)
    return edges


def circles(edges):
    graph = defaultdict(set)
    for user, target in edges:
        graph[user].add(target)
    found = []
    for (user, target) in edges:
        # A circle through this arrow: a path back from target to user.
        seen, stack = set(), [(target, [target])]
        while stack:
            node, path = stack.pop()
            if node == user:
                found.append([user] + path)
                break
            for next_node in graph[node]:
                if next_node not in seen:
                    seen.add(next_node)
                    stack.append((next_node, path + [next_node]))
    return found


def main(paths):
    failed = False
    for path in paths:
        module = Path(path)
        edges = arrows(module)
        print(f"== {module}")
        for (user, target), names in sorted(edges.items()):
            print(f"  {user} -> {target}: {', '.join(sorted(names)[:6])}{' …' if len(names) > 6 else ''}")
        found = circles(edges)
        for circle in found:
            failed = True
            print("  CIRCLE: " + " -> ".join(circle))
        if not found:
            print("  no circles")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["Sources/ChatBackend", "Sources/ChatSimulator"]))
