"""The ceiling: bare Starlette answering the deduction route with a fixed JSON body.

No validation, no auth, no state, and the body is not even read: what uvicorn and
Starlette cost by themselves.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from benchmarks.apps import FIXED_BODY, serve


async def deduct(_request: Request) -> JSONResponse:
    return JSONResponse(FIXED_BODY)


app = Starlette(
    routes=[Route("/v2/customers/{userId}/negativePointsAdjustment", deduct, methods=["POST"])]
)

if __name__ == "__main__":
    serve(app, __doc__)
