"""Which failed commands of a batch the node may send again: only those a cluster
refused without running (a redirection), and scripts the server does not know."""

from glide import ConnectionError, RequestError

from node.cluster import _NO_SCRIPT, _NOT_RUN, _failed_with

SERVER = "An error was signalled by the server: - "


def test_redirections_are_sent_again() -> None:
    results: list[object] = [
        1,
        RequestError(SERVER + "Moved: 856 127.0.0.1:20669"),
        RequestError(SERVER + "ClusterDown: The cluster is down"),
        RequestError(SERVER + "TryAgain: Multiple keys request during rehashing of slot"),
        RequestError(SERVER + "Ask: 856 127.0.0.1:20669"),
    ]
    assert _failed_with(results, _NOT_RUN) == [1, 2, 3, 4]


def test_failures_that_may_have_run_are_not() -> None:
    # A lost connection may have run the command: sending it again could run it twice.
    results: list[object] = [
        ConnectionError("Failed to send the request: the pipeline writer task has terminated"),
        RequestError(SERVER + "ExecAbortError: ... task ... asked"),
        TimeoutError("timed out"),
    ]
    assert _failed_with(results, _NOT_RUN) == []


def test_unknown_scripts_run_again_by_source() -> None:
    results: list[object] = [RequestError(SERVER + "NoScriptError: No matching script."), b"ok"]
    assert _failed_with(results, _NO_SCRIPT) == [0]
