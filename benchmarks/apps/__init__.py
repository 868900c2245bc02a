"""Reference servers the harness measures capmock against."""

import argparse
from collections.abc import Callable
from typing import Any

from capmock import serving

# capmock serve answers a deduction with this shape (the contract's 200 example).
FIXED_BODY = {
    "status": "success",
    "pointsAvailable": "670.000",
    "message": "points deducted successfully for the user ",
    "warnings": [],
}


def serve(app: Callable[..., Any], description: str) -> None:
    """Serve ``app`` the way ``capmock serve`` does (capmock/serving.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spec", help="the OpenAPI document (Connexion only)")
    args, _ = parser.parse_known_args()
    serving.run(app, serving.listen(args.host, args.port), workers=1, access_log=False)
