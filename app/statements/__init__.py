"""PLACEHOLDER until the statements helper's branch lands."""
from app.statements.model import StatementError

MAX_BYTES = 20 * 1024 * 1024


def read_statement(data, *, filename="", mapping=None):
    raise StatementError("not yet")
