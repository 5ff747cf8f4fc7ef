"""The test LLM server speaks the protocol the real SDK expects."""

from __future__ import annotations

from openai import AsyncOpenAI

from tests.support.fake_openai import FakeOpenAI, Reply


async def test_streams_and_reports_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = lambda body: Reply(content="one two three", prompt_tokens=7)
    client = AsyncOpenAI(base_url=fake_openai.base_url, api_key="test-key")
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    assert text == "one two three"
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (7, 3)
    assert fake_openai.requests[0]["headers"]["authorization"] == "Bearer test-key"
    await client.close()
