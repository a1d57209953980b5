"""Errors that are the user's input, not a bug: their message is one sentence to show as is."""


class InputError(ValueError):
    """The input cannot be analysed (empty, corrupt, wrong type, too large, bad parameter).

    The message is a complete sentence meant for the person who supplied the input.
    """
