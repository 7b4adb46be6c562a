"""StreamWidget in marimo: `marimo edit notebooks/marimo_example.py`.

The replay provider plays a recorded answer, so this runs without a key or network; put a real
model alias in place of "replay:short" once one is configured. ChatWidget and compare() are
ipywidgets containers, which marimo does not display; use StreamWidget here.
"""

import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    from llmwidgets import StreamWidget

    return StreamWidget, mo


@app.cell
def _(StreamWidget):
    # The cell returns at once; the answer streams into the widget after it.
    w = StreamWidget("replay:short", "What is a list comprehension?", delay=0.01)
    w
    return (w,)


@app.cell
async def _(mo, w):
    # `await w` waits for the end of the answer and gives the Response (`.text`, `.model`,
    # usage); `w.text` is the text so far, without waiting.
    response = await w
    answer = response.text
    mo.md(f"The answer has **{len(answer.split())} words**.")
    return (answer,)


if __name__ == "__main__":
    app.run()
