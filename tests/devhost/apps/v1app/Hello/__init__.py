"""Activity, v1 model, using a module shared by the app's functions."""

from ..shared import greeting


def main(name: str) -> str:
    return greeting(name)
