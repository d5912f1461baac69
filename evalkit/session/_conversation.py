"""Answering a conversation item: turn by turn, each turn its own (cached) call.

Turn k's request is the suite's system message, the conversation's fixed messages, then the
user turns 1..k with the model's *own* answers to turns 1..k-1 between them (MT-Bench's
protocol). The answer recorded is the last turn's; the whole transcript is kept beside it.
A turn that fails stops the conversation: the later turns are not asked, and the answer says
which turn failed and why.

When a conversation is judged turn by turn, the items of turns 1..k all need the answer to
turn 1: :class:`Conversations` makes each distinct call once and shares it between them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from evalkit.errors import ModelError
from evalkit.models import Completion, ModelRequest
from evalkit.records._answers import Answer, Role
from evalkit.records._conversation import Message
from evalkit.records._dataset import Item
from evalkit.session._usage import usage_columns

if TYPE_CHECKING:
    from evalkit.session._endpoints import Endpoint
    from evalkit.session._engine import Caller, SuiteContext

#: How a base (completion-style) model is asked a question; the conversation so far, if any,
#: is written before the question as earlier Question/Answer pairs.
ANSWER_TEMPLATE: Final = "answer_completion.j2"

#: Maps a failed call to its row's ``status`` and ``error`` (the engine's rule, passed in).
Failure = Callable[[ModelError], dict[str, Any]]


def _key(request: ModelRequest) -> str:
    """Identifies a request within one run of :class:`Conversations` (what the model is sent)."""
    data = [
        request.model, request.api_base, request.prompt,
        [dict(m) for m in request.messages], dict(request.params), request.sample,
    ]  # fmt: skip
    return json.dumps(data, sort_keys=True, default=str)


class Conversations:
    """Answers the conversation items of one model (see the module docstring)."""

    def __init__(
        self,
        ctx: SuiteContext,
        caller: Caller,
        role: Role,
        endpoint: Endpoint,
        failure: Failure,
    ) -> None:
        self._ctx = ctx
        self._caller = caller
        self._role: Role = role
        self._endpoint = endpoint
        self._failure = failure
        self._calls: dict[str, Awaitable[Completion]] = {}

    async def _complete(self, request: ModelRequest) -> Completion:
        key = _key(request)
        call = self._calls.get(key)
        if call is None:
            # A task, so that every item awaiting this turn gets the one result (or error).
            call = self._calls[key] = asyncio.ensure_future(self._caller.complete(request))
        return await call

    async def answer(self, item: Item, single: ModelRequest) -> Answer:
        """Answer ``item``'s conversation; the row of its last turn, with the transcript.

        ``single`` is the item's single-turn request (see :func:`turn_request`). Usage (tokens,
        cost, latency) counts the calls of the turns this item accounts for
        (:attr:`~evalkit.records._conversation.Conversation.first_turn` onwards).
        """
        talk = item.conversation
        assert talk is not None
        history: list[Message] = list(talk.prefix)
        used: list[Completion] = []
        made = 0  # calls this item accounts for, a failed one included (Answer.calls)
        text: str | None = None
        outcome: dict[str, Any] = {"status": "ok", "error": None}
        n = len(talk.turns)
        for k, turn in enumerate(talk.turns, start=1):
            history.append({"role": "user", "content": turn})
            try:
                completion = await self._complete(turn_request(self._ctx, single, history))
            except ModelError as exc:
                outcome = self._failure(exc)
                made += k >= talk.first_turn and outcome["status"] != "not_run"
            else:
                if k >= talk.first_turn:
                    used.append(completion)
                    made += 1
                text = completion.text.strip()
                if not text:
                    outcome = {"status": "failed", "error": "empty answer"}
            if outcome["status"] != "ok":
                text = None
                if k < n:
                    outcome = {
                        "status": "not_run",
                        "error": f"turn {k} of {n} was not answered ({outcome['status']}: "
                        f"{outcome['error']}), so the later turns were not asked",
                    }
                elif n > 1:
                    outcome = outcome | {"error": f"turn {k} of {n}: {outcome['error']}"}
                break
            assert text is not None
            history.append({"role": "assistant", "content": text})
        return Answer(
            run_id=self._ctx.run_id, suite=self._ctx.suite.name, item_id=item.id,
            role=self._role, model=self._endpoint.name, family=self._endpoint.family,
            prompt=talk.question, text=text, **outcome, **usage_columns(used), calls=made,
            transcript=tuple(history),
        )  # fmt: skip


def turn_request(ctx: SuiteContext, single: ModelRequest, history: list[Message]) -> ModelRequest:
    """The request of the turn that ends ``history``, from the item's single-turn request.

    ``single`` carries the endpoint, the sampling and the prompt style; only what the model is
    shown changes: the suite's system message and ``history`` (chat), or the answer template
    with ``history`` as earlier questions and answers (completion).
    """
    suite = ctx.suite
    if single.prompt is not None:
        # A base model has no system turn: the conversation's own system messages join the
        # suite's instructions at the top of the prompt.
        said = [m["content"] for m in history if m["role"] == "system"]
        instructions = "\n".join(t for t in (suite.system, *said) if t) or None
        prompt = ctx.templates.render(
            ANSWER_TEMPLATE,
            {
                "prompt": history[-1]["content"],
                "system": instructions,
                "conversation": history[:-1],
            },
        )
        return dataclasses.replace(single, prompt=prompt)
    system = [{"role": "system", "content": suite.system}] if suite.system else []
    return dataclasses.replace(single, messages=(*system, *history))


def placeholder_transcript(item: Item, said: str) -> tuple[Message, ...] | None:
    """``item``'s transcript with ``said`` for each of the model's answers (for the dry run).

    None for a single-turn item, as for its answers.
    """
    talk = item.conversation
    if talk is None:
        return None
    turns = [m for turn in talk.turns for m in (("user", turn), ("assistant", said))]
    return (*talk.prefix, *({"role": role, "content": text} for role, text in turns))


def planned_requests(
    ctx: SuiteContext, item: Item, single: ModelRequest, placeholder: str
) -> list[ModelRequest]:
    """The answering calls ``item`` will make, with ``placeholder`` for the model's own answers.

    For the dry run: ``[single]`` for a single-turn item, else one request per turn the item
    accounts for (see :class:`~evalkit.records._conversation.Conversation`), so that a suite's
    calls are counted once even when its conversations are judged turn by turn.
    """
    talk = item.conversation
    if talk is None:
        return [single]
    history: list[Message] = list(talk.prefix)
    out = []
    for k, turn in enumerate(talk.turns, start=1):
        history.append({"role": "user", "content": turn})
        if k >= talk.first_turn:
            out.append(turn_request(ctx, single, history))
        history.append({"role": "assistant", "content": placeholder})
    return out
