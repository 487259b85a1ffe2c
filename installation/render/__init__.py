"""Rendering: GL contexts (window | headless), the grid compositor, transitions and post-processing.

    from installation.render import create_context, GridCompositor, PostSettings, Transition

    rc = create_context("headless", (1920, 1080))
    grid = GridCompositor(rc.ctx, rc.size, 14, 14, post=PostSettings.from_mapping({"kuwahara": {}}))
    grid.set_image((0, 0), "painting.png", transition=Transition("dissolve", seconds=2.0), start_time=0.0)
    rc.begin_frame(); grid.draw(t=1.0, fbo=rc.fbo); frame = rc.read_pixels(); rc.end_frame()

Nothing here imports a backend module until :func:`create_context` names it (EGL and GLX must not share a
process), and nothing reads a clock: show time is passed in.
"""

from installation.render.color import parse_color
from installation.render.compositor import GridCompositor
from installation.render.context import (
    BACKENDS,
    KEYS,
    ContextUnavailable,
    RenderContext,
    create_context,
    display_available,
)
from installation.render.easing import EASINGS, ease
from installation.render.layout import GridLayout
from installation.render.overlay import TextOverlay
from installation.render.post import GradeSettings, KuwaharaSettings, PostChain, PostSettings
from installation.render.stats import FrameStats, FrameStatsSnapshot
from installation.render.textures import FITS, ImageLoader, decode_image, fit_image
from installation.render.transitions import DEFAULT_SECONDS, Transition, transition_names

__all__ = [
    "BACKENDS",
    "DEFAULT_SECONDS",
    "EASINGS",
    "FITS",
    "KEYS",
    "ContextUnavailable",
    "FrameStats",
    "FrameStatsSnapshot",
    "GradeSettings",
    "GridCompositor",
    "GridLayout",
    "ImageLoader",
    "KuwaharaSettings",
    "PostChain",
    "PostSettings",
    "RenderContext",
    "TextOverlay",
    "Transition",
    "create_context",
    "decode_image",
    "display_available",
    "ease",
    "fit_image",
    "parse_color",
    "transition_names",
]
