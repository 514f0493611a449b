"""The page `tfstyle ui` serves (Gradio Blocks): Transfer, Convert and Evaluate tabs over the
jobs in `jobs.py`.

Gradio is the field's convention for audio model demos (the DDSP and RAVE demos, most model
pages): upload, microphone recording, players with download and a job queue with progress bars
come with it, and it runs locally. It is imported only here, so the base install does not need
it. Every handler turns a TfstyleError into a message in the page's status line; the server
keeps serving.
"""
import os
import sys
import traceback

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")   # nothing is sent anywhere

import gradio as gr  # noqa: E402

from tfstyle.errors import TfstyleError  # noqa: E402
from tfstyle.ui import jobs  # noqa: E402

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "examples")
INTRO = """# tfstyle
**Transfer**: the melody of one clip played with the timbre of another. **Convert**: audio
through a trained converter. **Evaluate**: how far a result kept the melody and reached the
timbre, beside doing nothing and an equaliser. Everything runs on this computer."""


def _example(name):
    path = os.path.join(EXAMPLES, name)
    return path if os.path.isfile(path) else None


def _status(error):
    if isinstance(error, TfstyleError):
        return f"⚠ {error}"
    traceback.print_exc(file=sys.stderr)
    return f"⚠ unexpected error ({type(error).__name__}: {error}); the server log has details"


def _number(value):
    return None if value in (None, "") else value


def build(workspace):
    """The page as a gr.Blocks; `workspace` holds each job's files."""
    with gr.Blocks(title="tfstyle", analytics_enabled=False) as page:
        gr.Markdown(INTRO)
        with gr.Tab("Transfer", id="transfer"):
            _transfer_tab(workspace)
        with gr.Tab("Convert", id="convert"):
            _convert_tab(workspace)
        with gr.Tab("Evaluate", id="evaluate"):
            _evaluate_tab()
    return page


def _results(tab, action, audio, picture):
    """A tab's run button, status line, output player (with download) and picture."""
    run = gr.Button(action, variant="primary", elem_id=f"{tab}-run")
    status = gr.Markdown(elem_id=f"{tab}-status")
    with gr.Row():
        player = gr.Audio(label=audio, type="filepath", interactive=False,
                          buttons=["download"], elem_id=f"{tab}-output")
        image = gr.Image(label=picture, type="filepath", interactive=False,
                         elem_id=f"{tab}-picture")
    return run, status, player, image


def _transfer_tab(workspace):
    helps = jobs.transfer_settings()
    with gr.Row():
        content = gr.Audio(label="Content: the melody or words to keep", type="filepath",
                           sources=["upload", "microphone"], elem_id="transfer-content")
        style = gr.Audio(label="Style: the timbre to take on", type="filepath",
                         sources=["upload", "microphone"], elem_id="transfer-style")
    method = gr.Dropdown(jobs.methods(), value="default", label="Method",
                         info="a recipe (tfstyle presets); default: harmonic where both "
                              "clips are single melodic lines, else random-cnn", elem_id="transfer-method")
    examples = [[_example("piano_melody.wav"), _example("violin_phrase.wav"), "default"],
                [_example("piano_melody.wav"), _example("flute_phrase.wav"), "harmonic"],
                [_example("speech.wav"), _example("violin_phrase.wav"), "default"]]
    examples = [row for row in examples if all(row)]
    if examples:
        gr.Examples(examples, [content, style, method], label="Examples (click one)",
                    elem_id="transfer-examples")
    values = jobs.preset_values("default")
    with gr.Accordion("Settings (each method starts from its own values)", open=True):
        with gr.Row():
            steps = gr.Number(values["steps"], label="steps", info=helps["steps"],
                              precision=0, minimum=1, elem_id="transfer-steps")
            style_weight = gr.Number(values["style_weight"], label="style weight",
                                     info=helps["style_weight"], minimum=0)
            content_weight = gr.Number(values["content_weight"], label="content weight",
                                       info=helps["content_weight"], minimum=0)
        with gr.Row():
            transpose = gr.Textbox(values["transpose"], label="transpose",
                                   info=helps["transpose"])
            seed = gr.Number(values["seed"], label="seed", info=helps["seed"], precision=0)
        vocoder = gr.Textbox(label="vocoder (optional)", info=helps["vocoder"],
                             placeholder="wavenet or runs/my_vocoder",
                             elem_id="transfer-vocoder")
    fields = [steps, style_weight, content_weight, transpose, seed]
    method.change(lambda name: list(jobs.preset_values(name).values()), method, fields,
                  api_name=False)
    run, status, output, picture = _results("transfer", "Run transfer", "Output",
                                            "Spectrograms: content, style, output")

    def transfer(content, style, method, steps, style_weight, content_weight, transpose, seed,
                 vocoder, progress=gr.Progress(track_tqdm=True)):
        settings = dict(steps=_number(steps), style_weight=_number(style_weight),
                        content_weight=_number(content_weight), seed=_number(seed),
                        transpose=(transpose or "").strip() or None,
                        vocoder=(vocoder or "").strip() or None)
        settings["steps"] = None if settings["steps"] is None else int(settings["steps"])
        settings["seed"] = None if settings["seed"] is None else int(settings["seed"])
        try:
            out, png, summary = jobs.transfer(content, style, method, workspace, progress=True,
                                              **settings)
        except Exception as e:   # the page reports it; the server keeps serving
            return None, None, _status(e)
        return out, png, summary

    run.click(transfer, [content, style, method, steps, style_weight, content_weight,
                         transpose, seed, vocoder], [output, picture, status],
              api_name="transfer")


def _convert_tab(workspace):
    choices = jobs.converters()
    names = [name for _, name in choices]
    model = gr.Dropdown(choices, value="violin" if "violin" in names else (names or [None])[0],
                        label="Shipped converter", elem_id="convert-model",
                        info="harmonic: any monophonic melody played by that instrument; "
                             "MelGAN-VC: piano to violin (model cards in tfstyle/pretrained/)")
    run_dir = gr.Textbox(label="or a run folder of 'tfstyle fit' on this computer",
                         placeholder="runs/my_violin", elem_id="convert-run-dir",
                         info="used instead of the shipped converter when given")
    vocoder = gr.Textbox(label="vocoder (optional, MelGAN-VC)",
                         placeholder="wavenet, griffin-lim or runs/my_vocoder",
                         elem_id="convert-vocoder",
                         info="what turns the converted mel into sound: wavenet (the vocoder "
                              "shipped for the model's mel), griffin-lim, or a 'tfstyle fit "
                              "--model vocoder' run on it; empty: wavenet where one ships and "
                              "measured better, else griffin-lim")
    files = gr.File(label="Audio files to convert (several at once)", file_count="multiple",
                    type="filepath", elem_id="convert-files")
    run, status, first, picture = _results("convert", "Convert", "First result",
                                           "Spectrograms: first input, its output")
    outputs = gr.File(label="All results", file_count="multiple", interactive=False,
                      elem_id="convert-outputs")
    example = _example("piano_melody.wav")
    if example:
        gr.Examples([[[example], "violin"]], [files, model], label="Example (click it)",
                    elem_id="convert-examples")

    def convert(model, run_dir, vocoder, files, progress=gr.Progress(track_tqdm=True)):
        try:
            written, png, summary = jobs.convert(files, model, run_dir, workspace,
                                                 progress=False, vocoder=vocoder)
        except Exception as e:
            return None, None, None, _status(e)
        return written[0], png, written, summary

    run.click(convert, [model, run_dir, vocoder, files], [first, picture, outputs, status],
              api_name="convert")


def _evaluate_tab():
    with gr.Row():
        output = gr.Audio(label="Output: the result to judge", type="filepath",
                          elem_id="evaluate-output")
        content = gr.Audio(label="Content: what it was made from", type="filepath",
                           elem_id="evaluate-content")
    with gr.Row():
        style = gr.Audio(label="Style (optional; adds the baselines)", type="filepath",
                         elem_id="evaluate-style")
        reference = gr.Audio(label="Reference (optional): the true target", type="filepath",
                             elem_id="evaluate-reference")
    run = gr.Button("Evaluate", variant="primary", elem_id="evaluate-run")
    status = gr.Markdown(elem_id="evaluate-status")
    table = gr.Dataframe(label="Measures (tfstyle evaluate --baselines)", interactive=False,
                         wrap=True, elem_id="evaluate-table")
    example = [_example("piano_melody.wav"), _example("piano_melody.wav"),
               _example("violin_phrase.wav")]
    if all(example):
        gr.Examples([example], [output, content, style],
                    label="Example: the content itself as the output (the identity baseline)")

    def evaluate(output, content, style, reference):
        try:
            header, rows = jobs.evaluate(output, content, style, reference)
        except Exception as e:
            return None, _status(e)
        return gr.Dataframe(value=rows, headers=header), ""

    run.click(evaluate, [output, content, style, reference], [table, status],
              api_name="evaluate")


def serve(host="127.0.0.1", port=7860, max_upload_mb=50, block=True, quiet=False):
    """Starts the page; returns (page, url, workspace). Uploads larger than `max_upload_mb` are
    refused by the server before anything reads them."""
    workspace = jobs.Workspace()
    # Uploads land in the workspace too, so closing it removes every temporary file.
    os.environ["GRADIO_TEMP_DIR"] = os.path.join(workspace.root, "uploads")
    page = build(workspace)
    page.queue(default_concurrency_limit=2)
    allowed = [workspace.root] + ([EXAMPLES] if os.path.isdir(EXAMPLES) else [])
    try:
        # Blocking, this returns once Ctrl-C (or SIGTERM, see cli/ui.py) stops the server.
        _, url, _ = page.launch(server_name=host, server_port=port, share=False,
                                max_file_size=f"{max_upload_mb}mb", allowed_paths=allowed,
                                prevent_thread_lock=not block, quiet=quiet, ssr_mode=False,
                                footer_links=["api"], show_error=False,
                                # System fonts: the page loads nothing from the internet.
                                theme=gr.themes.Soft(font=["system-ui", "sans-serif"],
                                                     font_mono=["monospace"]))
    except OSError as e:
        block = True
        raise TfstyleError(f"cannot serve on {host}:{port} ({e}); try another --port") from None
    except BaseException:
        block = True
        raise
    finally:
        if block:
            page.close()
            workspace.close()
    return page, url, workspace
