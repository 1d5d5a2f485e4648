"""Code shared by the functions (not a function: no function.json)."""


def greeting(name: str) -> str:
    return f"Hello {name}!"
