#!/usr/bin/env python3
"""Writes the whole of smtpp as one header, for projects that vendor a single file.

    single_header.py --include-dir include --license LICENSE --output smtpp.hpp [--depfile F]

Starting from the umbrella header (<include-dir>/smtpp.hpp), every `#include <smtpp/...>` is
replaced by that header's text, each header once and after the headers it includes, so the
result compiles in the same order the compiler sees today. Each header's own include guard is
dropped for the one guard around the whole file; standard and system includes stay where they
are (an unconditional one is kept only the first time). The output starts with the license
(its name, SPDX id and full text: the MIT license asks for it in every copy) and the version
from smtpp/version.hpp.

The output depends only on the input files: no dates, no paths. Anything the script cannot do
faithfully is an error that names the file and line: an include cycle, a header that does not
exist, an smtpp include under #if, a "quoted" include, a header without the usual guard, a
header under smtpp/ that the umbrella never reaches, a byte that is not ASCII.

CMake (target smtpp_single_header) and Meson (the same target name) both run this script, so
there is one implementation: Meson itself runs on Python, and CMake finds it on any ordinary
build machine (without it CMake defines no smtpp_single_header target). It lives in .ci/ with
the other scripts that work on the source tree; it is not part of the library.
"""

import argparse
import pathlib
import re
import sys

UMBRELLA = "smtpp.hpp"
VERSION_HEADER = "smtpp/version.hpp"
OUTPUT_GUARD = "SMTPP_SINGLE_HEADER_HPP"

# License names as the first line of LICENSE spells them, and their SPDX identifiers.
SPDX_IDS = {
    "MIT License": "MIT",
    "Apache License": "Apache-2.0",
    "Boost Software License - Version 1.0 - August 17th, 2003": "BSL-1.0",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
CONDITIONAL_OPEN_RE = re.compile(r"^\s*#\s*if(n?def)?\b")
CONDITIONAL_CLOSE_RE = re.compile(r"^\s*#\s*endif\b")
GUARD_OPEN_RE = re.compile(r"^#ifndef\s+(\w+)\s*$")
GUARD_DEFINE_RE = re.compile(r"^#define\s+(\w+)\s*$")
GUARD_CLOSE_RE = re.compile(r"^#endif\b")
VERSION_RE = re.compile(r"^#define SMTPP_VERSION_(MAJOR|MINOR|PATCH) ([0-9]+)\s*$")


class GenerationError(Exception):
    pass


def is_internal(name):
    return name == UMBRELLA or name.startswith("smtpp/")


def read_ascii(path, shown=None):
    data = path.read_bytes()
    for offset, byte in enumerate(data):
        if byte > 0x7E or (byte < 0x20 and byte not in (0x09, 0x0A, 0x0D)):
            line = data.count(b"\n", 0, offset) + 1
            raise GenerationError(f"{shown or path}:{line}: byte 0x{byte:02x} is not printable ASCII")
    return data.decode("ascii").replace("\r\n", "\n")


def strip_guard(name, lines):
    """Returns the header's (line number, text) pairs without its include guard; fails if it
    has none."""
    directives = [i for i, line in enumerate(lines) if line.lstrip().startswith("#")]
    if len(directives) < 3:
        raise GenerationError(f"{name}: no include guard (#ifndef/#define ... #endif)")
    first, second, last = directives[0], directives[1], directives[-1]
    opened = GUARD_OPEN_RE.match(lines[first])
    defined = GUARD_DEFINE_RE.match(lines[second])
    if not opened or not defined or opened.group(1) != defined.group(1):
        raise GenerationError(f"{name}:{first + 1}: the first directives must be the include "
                              "guard, #ifndef NAME then #define NAME")
    if not GUARD_CLOSE_RE.match(lines[last]) or any(l.strip() for l in lines[last + 1:]):
        raise GenerationError(f"{name}:{last + 1}: the header must end with the guard's #endif")
    if any(line.strip() and not line.lstrip().startswith("//") for line in lines[:first]):
        raise GenerationError(f"{name}:{first + 1}: only comments may precede the include guard")
    numbered = list(enumerate(lines, start=1))
    return numbered[:first] + numbered[first + 1:second] + numbered[second + 1:last]


class Amalgamator:
    def __init__(self, include_dir):
        self.include_dir = include_dir
        self.done = set()
        self.stack = []
        self.system_includes = set()
        self.sections = []
        self.read_files = []

    def header_text(self, name, included_from):
        path = self.include_dir / name
        if not path.is_file():
            where = f"{included_from[0]}:{included_from[1]}" if included_from else "command line"
            raise GenerationError(f"{where}: cannot find <{name}> in {self.include_dir}")
        self.read_files.append(path)
        return read_ascii(path, name)

    def add(self, name, included_from=None):
        if name in self.done:
            return
        if name in self.stack:
            cycle = " -> ".join(self.stack[self.stack.index(name):] + [name])
            raise GenerationError(f"include cycle: {cycle}")
        self.stack.append(name)
        lines = strip_guard(name, self.header_text(name, included_from).split("\n"))
        body = self.expand(name, lines)
        self.stack.pop()
        self.done.add(name)
        if name == UMBRELLA:
            code = [l for l, _ in body if l.strip() and not l.lstrip().startswith("//")]
            if code:
                raise GenerationError(f"{name}: the umbrella may hold only includes and comments,"
                                      f" found: {code[0].strip()}")
            return
        self.sections.append((name, self.drop_repeated_includes(body)))

    def expand(self, name, lines):
        """Inlines the smtpp includes of one header. Returns the lines it keeps, each with the
        system header it includes unconditionally, if it does."""
        kept = []
        depth = 0
        for number, line in lines:
            include = INCLUDE_RE.match(line)
            if CONDITIONAL_OPEN_RE.match(line):
                depth += 1
            elif CONDITIONAL_CLOSE_RE.match(line):
                depth -= 1
            if not include:
                kept.append((line, None))
                continue
            quote, target = include.groups()
            if quote == '"':
                raise GenerationError(f"{name}:{number}: quoted include \"{target}\": include "
                                      "smtpp headers as <smtpp/...>")
            if not is_internal(target):
                kept.append((line, None if depth else target))
            elif depth:
                raise GenerationError(f"{name}:{number}: <{target}> is included under #if; "
                                      "only unconditional smtpp includes can be inlined")
            else:
                self.add(target, (name, number))
        return kept

    def drop_repeated_includes(self, body):
        """Drops the unconditional system includes an earlier section already made."""
        lines = []
        for line, system_header in body:
            if system_header in self.system_includes:
                continue
            if system_header:
                self.system_includes.add(system_header)
            lines.append(line)
        return lines

    def unreached(self):
        everything = sorted(p.relative_to(self.include_dir).as_posix()
                            for p in (self.include_dir / "smtpp").rglob("*.hpp"))
        return [name for name in everything if name not in self.done]


def squeeze_blank_lines(lines):
    out = []
    for line in lines:
        line = line.rstrip()
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def read_version(include_dir):
    parts = {}
    for line in read_ascii(include_dir / VERSION_HEADER, VERSION_HEADER).split("\n"):
        match = VERSION_RE.match(line)
        if match:
            parts[match.group(1)] = match.group(2)
    if set(parts) != {"MAJOR", "MINOR", "PATCH"}:
        raise GenerationError(f"{VERSION_HEADER}: SMTPP_VERSION_MAJOR/MINOR/PATCH not all found")
    return f"{parts['MAJOR']}.{parts['MINOR']}.{parts['PATCH']}"


def license_comment(license_path):
    text = squeeze_blank_lines(read_ascii(license_path).split("\n"))
    if not text:
        raise GenerationError(f"{license_path}: empty")
    spdx = next((i for n, i in SPDX_IDS.items() if text[0].strip().startswith(n)), None)
    if spdx is None:
        raise GenerationError(f"{license_path}: unknown license '{text[0].strip()}': add its "
                              "SPDX id to SPDX_IDS in this script")
    return [f"// SPDX-License-Identifier: {spdx}", "//"] + \
           [("// " + line).rstrip() for line in text]


def generate(include_dir, license_path):
    """Returns the single header's text and the files it was made from."""
    amalgamator = Amalgamator(include_dir)
    amalgamator.add(UMBRELLA)
    unreached = amalgamator.unreached()
    if unreached:
        raise GenerationError(f"{UMBRELLA} does not reach {', '.join(unreached)}: include it "
                              "from a header that uses it, or delete it")
    version = read_version(include_dir)
    out = [f"// smtpp {version}: a header-only C++17 Sans-IO SMTP/LMTP library, in one header.",
           "// Generated from include/smtpp.hpp and the headers it includes; do not edit.",
           "// Include it as <smtpp.hpp>, in place of the include/ directory.",
           "//"]
    out += license_comment(license_path)
    out += ["", f"#ifndef {OUTPUT_GUARD}", f"#define {OUTPUT_GUARD}", ""]
    rule = "// " + "-" * 93
    for name, body in amalgamator.sections:
        out += [rule, f"// <{name}>", ""] + squeeze_blank_lines(body) + [""]
    out += [f"#endif // {OUTPUT_GUARD}"]
    text = "\n".join(out) + "\n"
    text.encode("ascii")
    return text, amalgamator.read_files + [license_path]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="ascii", newline="\n")
    temporary.replace(path)


def depfile_text(output, inputs):
    def escape(path):
        return str(path).replace("\\", "/").replace(" ", "\\ ").replace("$", "$$")
    return f"{escape(output)}: " + " ".join(escape(p) for p in inputs) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--include-dir", required=True, type=pathlib.Path)
    parser.add_argument("--license", required=True, type=pathlib.Path)
    parser.add_argument("--output", required=True, type=pathlib.Path)
    parser.add_argument("--depfile", type=pathlib.Path,
                        help="also write the files read, as a Makefile rule for Ninja")
    args = parser.parse_args()
    try:
        text, inputs = generate(args.include_dir.resolve(), args.license.resolve())
    except (GenerationError, OSError) as error:
        print(f"single_header.py: error: {error}", file=sys.stderr)
        return 1
    write(args.output, text)
    if args.depfile:
        write(args.depfile, depfile_text(args.output, inputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
