"""Tools over a loaded policy set: checks (lint), fixtures (verify), explanations, replays."""
