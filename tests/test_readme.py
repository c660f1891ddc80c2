"""The README's examples, run against the shipped data: each GET it shows answers, and shows what the README says
it shows."""

import re
import shlex
from pathlib import Path

import pytest

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)
URL = re.compile(r"(?:https?://)?(?:localhost|127\.0\.0\.1):8000(/\S*)")


def get_examples():
    """(line, path, headers) of every curl GET in the README's shell blocks: no -X, no -d, no $VARIABLE."""
    found = []
    for block in SHELL_BLOCKS:
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if not command.startswith("curl") or "-X" in command or " -d " in command or "$" in command:
                continue
            words = shlex.split(command.split("|", 1)[0])
            headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
            (path,) = [match.group(1) for word in words if (match := URL.fullmatch(word))]
            found.append((line.strip(), path, headers))
    return found


EXAMPLES = get_examples()


def test_the_readme_has_examples_to_run():
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize(("line", "path", "headers"), EXAMPLES, ids=[path for _, path, _ in EXAMPLES])
def test_every_get_example_answers(client, seeded, line, path, headers):
    if "If-None-Match" in headers:
        # The README's tag is a placeholder ("r1-…"): send the one the same URL answered.
        headers = {"If-None-Match": client.get(path).headers["ETag"]}
        assert client.get(path, headers=headers).status_code == 304, line
        return
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (line, response.get_data(as_text=True)[:300])
    if response.mimetype == "application/json" and isinstance(response.get_json().get("data"), list):
        assert response.get_json()["data"], f"{line}: an example that shows nothing"


def test_the_tour_shows_what_it_says(client, seeded):
    claims = client.get("/api/v1/claims?status=unverified,alleged&sort=credibility&limit=5").get_json()["data"]
    assert [claim["credibility"] for claim in claims] == sorted(claim["credibility"] for claim in claims)
    assert claims[0]["credibility"] < 6  # the most credible first, not "truth cannot be judged"
    denials = client.get("/api/v1/events?actor=china&role=denier").get_json()["data"]
    assert {event["type"] for event in denials} == {"official_denial"}
    months = client.get("/api/v1/events?facets=month&limit=1").get_json()["meta"]["facets"]["month"]["values"]
    assert "XXXX-09" in [value["value"] for value in months]
    paged = client.get("/api/v1/events?limit=5")
    assert 'rel="next"' in paged.headers["Link"] and paged.headers["ETag"]
    sources = client.get("/api/v1/claims/factory-produces-lethal-drones/sources").get_json()["data"]
    assert all(record["links"] for record in sources)  # each with the stance and excerpt of its links
    csv = client.get("/api/v1/claims?format=csv")
    assert csv.headers["Content-Disposition"].startswith('attachment; filename="eventledger-claims-r')
