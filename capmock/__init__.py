"""capmock: a contract-testing and mock-server toolkit for Capillary's
negativePointsAdjustment API.
"""

__version__ = "0.1.0"
