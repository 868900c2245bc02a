import warnings

# Connexion imports Starlette's test client at start-up, which warns about httpx: noise
# for someone starting a mock or loading fixtures, and nothing they could act on.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
