"""StreamWidget, ChatWidget and compare() in marimo: `marimo edit notebooks/marimo_example.py`.

marimo 0.25 opens a notebook without running it: press "Run all stale cells" (Ctrl+Shift+R), or
set `auto_instantiate = true` under `[runtime]` in marimo's config. Reloading the tab reconnects
to the same session: ended answers show again, and one still streaming goes on where it is.

The replay provider plays recorded answers, so this runs without a key or network; put a real
model alias in place of "replay:..." once one is configured. marimo has no IPython magics: use
the widgets. Each is an anywidget: show it as a cell's last value (or inside `mo.vstack`).

Getting an answer into a variable, the marimo way: cells return at once and answers stream
after them, so a cell that needs the answer awaits it (`await w`, `await grid`); marimo runs
that cell once the answer has ended and the cells that read its variables after it. A chat's
answers come from the person typing, after every cell has run: read `chat.messages` (or
`chat.history`) in a cell that a button re-runs.
"""

import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from llmwidgets import ChatWidget, StreamWidget, compare

    return ChatWidget, StreamWidget, compare, mo


@app.cell
def _(StreamWidget):
    # The cell returns at once; the answer streams into the widget after it. Stop works.
    w = StreamWidget("replay:short", "What is a list comprehension?", delay=0.01)
    w
    return (w,)


@app.cell
def _(StreamWidget, mo):
    # A new answer per click: the button's callback makes the widget (no cell runs then), and
    # the cell below shows it, as the button's value.
    ask = mo.ui.button(
        value=None,
        on_click=lambda _: StreamWidget("replay:tour", "Show me around", delay=0.01),
        label="Ask for a tour",
    )
    ask
    return (ask,)


@app.cell
def _(ask):
    ask.value
    return


@app.cell
async def _(mo, w):
    # `await w` waits for the end of the answer and gives the Response (`.text`, `.model`,
    # usage); `w.text` is the text so far, without waiting.
    response = await w
    answer = response.text
    mo.md(f"The answer has **{len(answer.split())} words**.")
    return (answer,)


@app.cell
def _(ChatWidget):
    # Type below the transcript: Enter sends, Shift+Enter is a newline, Up recalls.
    chat = ChatWidget("replay:short", system="Answer briefly.")
    chat
    return (chat,)


@app.cell
def _(mo):
    read_chat = mo.ui.button(label="Read the conversation")
    read_chat
    return (read_chat,)


@app.cell
def _(chat, mo, read_chat):
    # Re-run by the button above: the conversation so far, in OpenAI's message format.
    read_chat.value
    messages = chat.messages
    mo.md(f"Messages so far, the system prompt included: **{len(messages)}**.")
    return (messages,)


@app.cell
def _(compare):
    # Two models side by side, streaming at once; the summary appears when both have ended.
    grid = compare(["replay:short", "replay:tour"], "Show me something in Python", delay=0.01)
    grid
    return (grid,)


@app.cell
async def _(grid):
    # Every pane's Response once all have ended (None for a pane that never started), and the
    # summary as a table.
    results = await grid
    grid.table()
    return (results,)


if __name__ == "__main__":
    app.run()
