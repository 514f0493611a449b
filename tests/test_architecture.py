"""The package's layers, read from its import statements (function-level imports included):
no module imports one that imports it back, and lower layers import nothing from higher ones."""
import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Each layer may import only from the layers listed before it.
LAYERS = [("tfstyle.errors", "tfstyle.settings", "tfstyle.progress", "tfstyle.audio",
           "tfstyle.chunking", "tfstyle.spectral", "tfstyle.phase", "tfstyle.dsp",
           "tfstyle.synth", "tfstyle.plotting", "tfstyle.datasets", "tfstyle.domains",
           "tfstyle.metrics", "tfstyle.baselines", "tfds_builders",
           # The names of the feature networks, which the settings offer.
           "tfstyle.optimisation.features.catalog"),
          # The settings of a transfer, which both methods read.
          ("tfstyle.optimise", "tfstyle.transfer_config", "tfstyle.presets"),
          ("tfstyle.optimisation", "tfstyle.harmonic"),
          ("tfstyle.converters", "tfstyle.pretrained"),
          # Chooses between harmonic and optimisation transfer, above both.
          ("tfstyle.dispatch",),
          ("tfstyle.cli", "tfstyle.ui", "tfstyle.__main__")]
# The package itself, whose entry points import the layers lazily, sits on top.
TOP = "tfstyle"


def modules():
    found = {}
    for top in ("tfstyle", "tfds_builders"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py") and not name.endswith("_test.py"):
                    path = os.path.join(folder, name)
                    module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    found[module.removesuffix(".__init__")] = path
    return found


def imports(found):
    graph = {}
    for module, path in found.items():
        targets = set()
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    targets.add(name if name in found else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[module] = {t for t in targets if t in found and t != module}
    return graph


def layer(module):
    if module == TOP:
        return len(LAYERS) - 1   # with the command line (which reads its __version__)
    for index, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return index
    raise AssertionError(f"{module} belongs to no layer")


def test_no_import_cycles():
    graph = imports(modules())
    state = {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            assert state.get(target) != "open", " -> ".join(path + [target])
            if target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_lower_layers_import_nothing_from_higher_ones():
    graph = imports(modules())
    wrong = [f"{a} -> {b}" for a, targets in graph.items() for b in targets
             if layer(b) > layer(a)]
    assert not wrong, wrong


def test_optimisation_transfer_imports_nothing_of_the_harmonic_family():
    graph = imports(modules())
    seen, todo = set(), [m for m in graph if m.startswith("tfstyle.optimisation")]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    assert not [m for m in seen if m.startswith("tfstyle.harmonic")], sorted(seen)
    assert "tfstyle.optimisation.transfer" in graph["tfstyle.dispatch"]
    assert "tfstyle.harmonic.one_shot" in graph["tfstyle.dispatch"]
