"""Baseline (a) of the upload benchmark: the least a Python client can do.

One keep-alive ``httpx.AsyncClient`` with the client certificate: a GET of
the session page, then one multipart POST per file, strictly in order. No
checks, no history, no receipt parsing, no locks: the practical floor that
omar-tui's ``submit`` is measured against.

    python bench/httpx_floor.py BASE_URL CERT KEY CA FILE...

Exits 1 if any upload does not answer 200 with a File Id in the page.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from pathlib import Path

import httpx


async def send_all(
    base_url: str, cert: str, key: str, ca: str, files: list[str]
) -> int:
    context = ssl.create_default_context(cafile=ca)
    context.load_cert_chain(cert, key)
    failed = 0
    async with httpx.AsyncClient(verify=context, base_url=base_url) as client:
        (await client.get("/")).raise_for_status()
        for name in files:
            path = Path(name)
            reply = await client.post(
                "/uploadProcess.jsp",
                files={"datafile": (path.name, path.read_bytes())},
            )
            if reply.status_code != 200 or b"File Id" not in reply.content:
                failed += 1
    return failed


def main() -> int:
    base_url, cert, key, ca, *files = sys.argv[1:]
    failed = asyncio.run(send_all(base_url, cert, key, ca, files))
    if failed:
        print(f"httpx_floor: {failed} uploads failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
