"""Creates the dev profile's signing secrets in moto (Secrets Manager) unless they exist.

moto keeps nothing across restarts, so the values live in the git-ignored
infra/local/.data/secrets/ folder and are put back with the same values on every start:
tokens issued before a restart stay valid. Run with the moto venv's Python (it has boto3).
Usage: ensure_secrets.py ENDPOINT NAME [NAME ...]
"""

import os
import secrets
import sys

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
STORE = os.path.join(HERE, ".data", "secrets")


def value_for(name: str) -> str:
    path = os.path.join(STORE, name.replace("/", "_"))
    if not os.path.exists(path):
        os.makedirs(STORE, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    with open(path) as f:
        return f.read().strip()


def main() -> None:
    endpoint, names = sys.argv[1], sys.argv[2:]
    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    for name in names:
        try:
            client.describe_secret(SecretId=name)
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(Name=name, SecretString=value_for(name))
            print(f"[local-aws:dev] created secret {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
