"""`tfstyle ui`: a local web page for transfer, conversion and evaluation (the `ui` extra).

`jobs` runs the work on uploaded files and imports no web library; `page` is the Gradio page
over it and starts the server.
"""
