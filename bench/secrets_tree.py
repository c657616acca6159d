"""A tree with thousands of secret findings (stdlib only, seeded): the worst case for the cost of
secret fingerprints (docs/fingerprints.md, docs/performance.md).

Each file holds `--per-file` synthetic credentials: storage account keys, SAS signatures and
Service Bus keys (key material a generator produced: the cheap derivation) and database passwords
(a person may have chosen them: the slow derivation), `--passwords` of them (a fraction). Every
value is random bytes from `random.Random(seed)`; none is, or ever was, a real credential.

    python bench/secrets_tree.py /tmp/corpus/secrets --files 1000 --per-file 4 --passwords 0.25
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import string


def _b64(r: random.Random, nbytes: int) -> str:
    return base64.b64encode(r.randbytes(nbytes)).decode()


def _password(r: random.Random) -> str:
    return "".join(r.choice(string.ascii_letters + string.digits) for _ in range(12)) + r.choice("!#%") + str(r.randint(10, 99))


def credential(r: random.Random, i: int, password: bool) -> str:
    if password:
        return (f'SQL_{i} = "Server=tcp:sql{i}.database.windows.net,1433;Initial Catalog=app;User ID=app;'
                f'Password={_password(r)};Encrypt=True"')
    shape = r.randrange(3)
    if shape == 0:
        return (f'STORAGE_{i} = "DefaultEndpointsProtocol=https;AccountName=st{i};AccountKey={_b64(r, 64)};'
                'EndpointSuffix=core.windows.net"')
    if shape == 1:
        sig = _b64(r, 32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        return (f'SAS_{i} = "https://st{i}.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl'
                f'&se=2031-01-01T00:00:00Z&spr=https&sig={sig}"')
    return (f'BUS_{i} = "Endpoint=sb://ns{i}.servicebus.windows.net/;SharedAccessKeyName=send;'
            f'SharedAccessKey={_b64(r, 32)}"')


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--files", type=int, default=1000)
    p.add_argument("--per-file", type=int, default=4)
    p.add_argument("--passwords", type=float, default=0.25, help="fraction of credentials that are passwords")
    p.add_argument("--seed", type=int, default=20240601)
    a = p.parse_args()
    r = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "keyless.toml"), "w") as fh:
        fh.write("# pins the project root to this tree\n")
    n = pw = 0
    for f in range(a.files):
        d = os.path.join(a.out, f"svc{f // 100:03d}")
        os.makedirs(d, exist_ok=True)
        lines = []
        for _ in range(a.per_file):
            is_pw = r.random() < a.passwords
            lines.append(credential(r, n, is_pw))
            n += 1
            pw += is_pw
        with open(os.path.join(d, f"settings_{f:05d}.py"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
    print(f"{a.files} files, {n} credentials ({pw} passwords) in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
