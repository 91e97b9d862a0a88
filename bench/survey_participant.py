"""One simulated participant: an aiohttp session walking the survey as a phone's browser does.

It opens the study link, consents (with the hidden fields the page carries), takes the sound
check, reads the instructions, fetches every sound and answers every trial, fills in the
questionnaire and reads its completion code. Each participant has its own cookies and its own
client address (sent in X-Forwarded-For, as the reverse proxy in front of the site would).
Answers are posted the way static/js/player.js posts them: without following the redirect,
then loading the page it names.
"""

import asyncio
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urljoin

import aiohttp

from surveys.headphone import TRIPLET_SECONDS

ANSWER_FIELDS = {"confidence": "4", "musicality": "3", "response_ms": "900", "plays": "1"}
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_START = re.compile(r'name="start" value="([^"]*)"')
_AUDIO = re.compile(
    r'<source src="([^"?]+)" type="audio/mpeg">|<audio preload="auto" src="([^"]+)"'
)
_SELECTS = re.compile(r'<select name="(mt\d)"')


class FlowError(RuntimeError):
    """The site answered something a participant's browser could not go on from."""


@dataclass
class Tally:
    """What all participants did, for the figures and for the database checks."""

    requests: int = 0
    answers_accepted: int = 0
    answer_seconds: list[float] = field(default_factory=list)
    completed: int = 0
    codes: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


class Participant:
    def __init__(
        self,
        base: str,
        slug: str,
        number: int,
        tally: Tally,
        listen_seconds: float,
        decide_seconds: float = 0.0,
    ):
        self.base = base
        self.slug = slug
        self.tally = tally
        self.listen_seconds = listen_seconds
        self.decide_seconds = decide_seconds
        self.address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256 + 1}"
        self.rng = random.Random(number)

    async def _get(self, session: aiohttp.ClientSession, url: str) -> tuple[str, str]:
        async with session.get(urljoin(self.base, url)) as response:
            self.tally.requests += len(response.history) + 1
            if response.status != 200:
                raise FlowError(f"GET {url}: {response.status}")
            return str(response.url.path), await response.text()

    async def _audio(self, session: aiohttp.ClientSession, page: str) -> None:
        match = _AUDIO.search(page)
        if not match:
            raise FlowError("a listening page without a sound")
        async with session.get(urljoin(self.base, match[1] or match[2])) as response:
            self.tally.requests += 1
            if response.status != 200 or not await response.read():
                raise FlowError(f"sound: {response.status}")

    async def _post(self, session, path: str, page: str, data: dict) -> str:
        """Posts a form of `page` and returns the path it redirects to (not followed)."""
        data = {"csrfmiddlewaretoken": _CSRF.search(page)[1], **data}
        started = time.perf_counter()
        async with session.post(
            urljoin(self.base, path), data=data, allow_redirects=False
        ) as response:
            elapsed = time.perf_counter() - started
            self.tally.requests += 1
            await response.read()
            if response.status != 302:
                raise FlowError(f"POST {path}: {response.status}")
            if "/t/" in path:
                self.tally.answer_seconds.append(elapsed)
                self.tally.answers_accepted += 1
            return response.headers["Location"]

    async def run(self) -> None:
        headers = {"X-Forwarded-For": self.address, "User-Agent": "bench-survey"}
        # unsafe: keep cookies for an IP address such as 127.0.0.1, as browsers do.
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(headers=headers, cookie_jar=jar) as session:
            try:
                await self._walk(session)
            except (TimeoutError, FlowError, aiohttp.ClientError) as error:
                self.tally.failures.append(f"{self.address}: {type(error).__name__}: {error}")

    async def _walk(self, session: aiohttp.ClientSession) -> None:
        query = f"?PROLIFIC_PID=bench-{self.address}&STUDY_ID=bench&SESSION_ID={uuid.uuid4().hex}"
        path, page = await self._get(session, f"/s/{self.slug}/{query}")
        start = _START.search(page)
        data = {"agree": "on", "start": start[1] if start else ""}
        path, page = await self._get(session, await self._post(session, path, page, data))
        while path.endswith("/headphones/"):
            await self._audio(session, page)
            if self.listen_seconds:  # people hear the tones out; the server checks they could
                await asyncio.sleep(TRIPLET_SECONDS)
            answer = {"response": str(self.rng.randint(1, 3))}
            path, page = await self._get(session, await self._post(session, path, page, answer))
        if not path.endswith("/instructions/"):
            raise FlowError(f"expected the instructions, got {path}")
        path, page = await self._get(session, await self._post(session, path, page, {}))
        while "/t/" in path:
            await self._audio(session, page)
            await asyncio.sleep(self.listen_seconds + self.rng.uniform(0, self.decide_seconds))
            judgment = self.rng.choice(("person", "computer"))
            answer = {**ANSWER_FIELDS, "judgment": judgment, "request_id": uuid.uuid4().hex}
            answer["listening_ms"] = str(round(self.listen_seconds * 1000))
            path, page = await self._get(session, await self._post(session, path, page, answer))
        if not path.endswith("/questions/"):
            raise FlowError(f"expected the questionnaire, got {path}")
        form = {key: "1" for key in _SELECTS.findall(page)}
        form |= {"age_band": "25-34", "musical_training_years": "0"}
        path, page = await self._get(session, await self._post(session, path, page, form))
        code = re.search(r"data-completion-code>([^<]+)<", page)
        if not path.endswith("/done/") or not code:
            raise FlowError(f"expected the completion code, got {path}")
        self.tally.completed += 1
        self.tally.codes.add(code[1])
