#!/usr/bin/env python3
"""Checks the native libraries bundled in the jar, reading their ELF files directly.

For every platform listed in <native dir>/platforms.txt (the directory the jar's
manyfold/native/ comes from), the library must exist and:
  - be an ELF shared object for the platform's machine (e_machine EM_X86_64 = 62 for
    linux-x86_64, EM_AARCH64 = 183 for linux-aarch64);
  - require no GLIBC_x.y symbol version newer than the floor (--max-glibc, default 2.17),
    read from the library's version-needs section (.gnu.version_r).

(That the x86_64 code runs on a baseline x86-64 CPU is not checked here: the library does contain
AVX2/SSE4.2/PCLMULQDQ code, in dependencies that pick it at run time after checking CPUID, so a
disassembly cannot tell; `make test-baseline` runs the code under qemu's qemu64 CPU instead.)

Prints one line per library and exits non-zero on the first failure. `--self-test` checks the
checker against this machine's own libc-linked binaries and a hand-made ELF header.

Usage: check_libs.py [--max-glibc 2.17] [--self-test] NATIVE_DIR
"""

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

EM_X86_64 = 62
EM_AARCH64 = 183
MACHINES = {"linux-x86_64": EM_X86_64, "linux-aarch64": EM_AARCH64}
MACHINE_NAMES = {EM_X86_64: "EM_X86_64", EM_AARCH64: "EM_AARCH64"}
SHT_GNU_VERNEED = 0x6FFFFFFE
ET_DYN = 3

def read_elf(path):
    """(e_machine, e_type, sorted GLIBC versions needed) of a 64-bit little-endian ELF file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        raise ValueError(f"{path}: not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise ValueError(f"{path}: not a 64-bit little-endian ELF file")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    e_shoff = struct.unpack_from("<Q", data, 0x28)[0]
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = []
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        _name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, sh_info = struct.unpack_from(
            "<IIQQQQII", data, off
        )
        sections.append((sh_type, sh_offset, sh_size, sh_link, sh_info))
    versions = set()
    for sh_type, sh_offset, _size, sh_link, sh_info in sections:
        if sh_type != SHT_GNU_VERNEED:
            continue
        strtab = sections[sh_link][1]

        def string(at):
            end = data.index(b"\0", strtab + at)
            return data[strtab + at : end].decode()

        need = sh_offset
        for _ in range(sh_info):  # Elf64_Verneed entries
            _ver, cnt, _file, aux, nxt = struct.unpack_from("<HHIII", data, need)
            a = need + aux
            for _ in range(cnt):  # Elf64_Vernaux entries
                _hash, _flags, _other, name, anext = struct.unpack_from("<IHHII", data, a)
                versions.add(string(name))
                a += anext
            if nxt == 0:
                break
            need += nxt
    glibc = sorted(
        (tuple(int(p) for p in v[len("GLIBC_") :].split(".")) for v in versions
         if re.fullmatch(r"GLIBC_[0-9]+(\.[0-9]+)*", v)),
    )
    return e_machine, e_type, glibc


def version_str(v):
    return ".".join(str(p) for p in v)


def check_dir(native_dir, max_glibc, verbose=True):
    index = os.path.join(native_dir, "platforms.txt")
    with open(index) as f:
        platforms = [line.strip() for line in f if line.strip()]
    if sorted(platforms) != sorted(MACHINES):
        raise AssertionError(f"{index} lists {platforms}, expected {sorted(MACHINES)}")
    failures = []
    for platform in platforms:
        lib = os.path.join(native_dir, platform, "libmanyfold_jni.so")
        machine, e_type, glibc = read_elf(lib)
        highest = glibc[-1] if glibc else None
        line = (
            f"{platform}/libmanyfold_jni.so: e_machine {machine} "
            f"({MACHINE_NAMES.get(machine, 'unexpected')}), highest GLIBC "
            f"{version_str(highest) if highest else 'none'}"
        )
        if machine != MACHINES[platform]:
            failures.append(f"{platform}: e_machine {machine}, expected {MACHINES[platform]}")
        if e_type != ET_DYN:
            failures.append(f"{platform}: e_type {e_type}, not a shared object")
        if not glibc:
            failures.append(f"{platform}: requires no GLIBC version at all (not a glibc build?)")
        elif highest > max_glibc:
            failures.append(
                f"{platform}: requires GLIBC_{version_str(highest)} > {version_str(max_glibc)}"
            )
        if verbose:
            print(line)
    return failures


def self_test(max_glibc):
    """The checker finds what it must: a too-new glibc and a wrong machine fail."""
    # This machine's own python links against its (newer) glibc: its needs are read.
    _m, _t, glibc = read_elf(os.path.realpath(sys.executable))
    libc_needs = glibc
    if not libc_needs:
        libc = "/lib/x86_64-linux-gnu/libc.so.6"
        if os.path.exists(libc):
            libc_needs = read_elf(libc)[2]
    assert libc_needs, "the checker read no GLIBC version from this machine's python or libc"
    # readelf, where present, must agree on the highest version.
    readelf = shutil.which("readelf")
    if readelf and glibc:
        out = subprocess.run(
            [readelf, "-V", "-W", os.path.realpath(sys.executable)],
            check=True, capture_output=True, text=True,
        ).stdout
        theirs = max(
            tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+[0-9])", out)
        )
        assert theirs == glibc[-1], f"readelf says {theirs}, the checker {glibc[-1]}"
    # A library directory with the wrong machine and a too-new glibc is refused.
    with tempfile.TemporaryDirectory() as d:
        for platform in MACHINES:
            os.makedirs(os.path.join(d, platform))
        with open(os.path.join(d, "platforms.txt"), "w") as f:
            f.write("linux-x86_64\nlinux-aarch64\n")
        src = os.path.realpath(sys.executable)
        for platform in MACHINES:
            shutil.copy(src, os.path.join(d, platform, "libmanyfold_jni.so"))
        failures = check_dir(d, (2, 2), verbose=False)
        assert any("linux-aarch64: e_machine 62" in f for f in failures), failures
        assert any("linux-x86_64: requires GLIBC_" in f for f in failures), failures
    print("check_libs self-test: passed")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("native_dir")
    ap.add_argument("--max-glibc", default="2.17")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    max_glibc = tuple(int(p) for p in args.max_glibc.split("."))
    if args.self_test:
        self_test(max_glibc)
    failures = check_dir(args.native_dir, max_glibc)
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    platforms = len(MACHINES)
    print(f"native: {platforms - len({f.split(':')[0] for f in failures})} passed, "
          f"{len({f.split(':')[0] for f in failures})} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
