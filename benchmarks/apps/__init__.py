"""Reference servers the harness measures capmock against."""

import argparse
from collections.abc import Callable
from typing import Any

import uvicorn

# capmock serve answers a deduction with this shape (the contract's 200 example).
FIXED_BODY = {
    "status": "success",
    "pointsAvailable": "670.000",
    "message": "points deducted successfully for the user ",
    "warnings": [],
}


def serve(app: Callable[..., Any], description: str) -> None:
    """Serve ``app`` the way ``capmock serve`` does (capmock/cli.py's uvicorn.run call)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spec", help="the OpenAPI document (Connexion only)")
    args, _ = parser.parse_known_args()
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
