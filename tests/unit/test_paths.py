import pytest

from studio_image.scan.paths import is_within, normalize


@pytest.mark.parametrize(
    "raw",
    [
        "opt/ml/x",
        "./opt/ml/x",
        "/opt/ml/x",
        "opt//ml/x",
        "opt/./ml/x",
        "a/../opt/ml/x",
        "opt/ml/x/",
        ".//opt/ml//x",
    ],
)
def test_every_spelling_of_a_path_normalises_to_one_form(raw):
    # Given a tar member name spelled oddly, When normalised, Then it is the canonical absolute path
    assert normalize(raw) == ("/opt/ml/x", False)


@pytest.mark.parametrize(
    "raw, expected", [("../etc/passwd", "/etc/passwd"), ("a/../../x", "/x"), ("..", "/")]
)
def test_a_path_that_climbs_above_the_root_stays_at_the_root_and_is_reported(raw, expected):
    assert normalize(raw) == (expected, True)


def test_the_root_itself():
    assert normalize("./") == ("/", False)


@pytest.mark.parametrize(
    "path, inside", [("/opt/ml", True), ("/opt/ml/a", True), ("/opt/mlflow", False), ("/opt", False)]
)
def test_is_within_respects_segment_boundaries(path, inside):
    assert is_within(path, "/opt/ml") is inside
