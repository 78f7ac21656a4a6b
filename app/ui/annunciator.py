"""Audible annunciation: a horn per priority that repeats until acknowledged or silenced.

:class:`Annunciator` watches the alarm list. While an alarm that sounds (new and
unacknowledged, of a priority set to sound) is neither acknowledged nor silenced, it
plays the tone of the most urgent such priority at once and again every
``repeat_s`` seconds. *Silence* stops the horn for the alarms sounding now; an alarm
raised later sounds again.

Tones are WAV files generated once per priority (:func:`tone_wav`, stdlib ``wave``)
into a temporary directory and played by ``playsound3`` (a small cross-platform player:
winmm on Windows, GStreamer / ALSA / ffplay on Linux, in a child process, so the GUI
never waits). Where no player exists the system beep (``QApplication.beep``) sounds.
QtMultimedia would do the same but is in PySide6-Addons, which the workstation does
not install.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from app.alarms import Alarm, AlarmState

log = logging.getLogger(__name__)

#: Samples per second of the generated tones.
SAMPLE_RATE = 16_000
#: Tone per priority: (frequency Hz, beeps, beep length s, gap s). More urgent: higher, more, shorter.
TONES: dict[int, tuple[float, int, float, float]] = {
    1: (880.0, 3, 0.15, 0.08),
    2: (740.0, 2, 0.20, 0.10),
    3: (587.0, 1, 0.30, 0.0),
    4: (440.0, 1, 0.20, 0.0),
}


def tone_wav(priority: int) -> bytes:
    """The horn tone of ``priority`` as a WAV file.

    Parameters
    ----------
    priority : int
        1..4 (see :data:`TONES`).

    Returns
    -------
    bytes
        RIFF/WAVE, mono, 16-bit signed PCM at :data:`SAMPLE_RATE` Hz; sine beeps with
        5 ms ramps (no clicks) at 0.6 of full scale.

    Raises
    ------
    ValueError
        Unknown priority.
    """
    try:
        freq, beeps, length_s, gap_s = TONES[priority]
    except KeyError:
        raise ValueError(f"no tone for alarm priority {priority!r}; priorities are {sorted(TONES)}") from None
    n = int(SAMPLE_RATE * length_s)
    t = np.arange(n) / SAMPLE_RATE
    beep = np.sin(2 * np.pi * freq * t)
    ramp = min(n // 2, int(0.005 * SAMPLE_RATE))
    envelope = np.ones(n)
    envelope[:ramp] = np.linspace(0.0, 1.0, ramp)
    envelope[n - ramp:] = np.linspace(1.0, 0.0, ramp)
    gap = np.zeros(int(SAMPLE_RATE * gap_s))
    parts = []
    for i in range(beeps):
        parts.append(beep * envelope)
        if i < beeps - 1:
            parts.append(gap)
    pcm = (np.concatenate(parts) * 0.6 * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


class Player(Protocol):
    """Plays the tone of a priority without blocking."""

    def play(self, priority: int) -> None: ...


class TonePlayer:
    """Plays :func:`tone_wav` tones through ``playsound3``, else the system beep.

    The WAV files are written to a temporary directory, removed by :meth:`close`.

    Attributes
    ----------
    backend : str
        The ``playsound3`` backend used, or ``"beep"``.
    """

    def __init__(self) -> None:
        from playsound3 import DEFAULT_BACKEND  # probes the system's players on import

        self.backend = DEFAULT_BACKEND or "beep"
        self._dir: Path | None = None
        self._files: dict[int, Path] = {}
        self._sound = None

    def play(self, priority: int) -> None:
        """Start the tone of ``priority`` (stopping one still playing); never raises."""
        if self.backend == "beep":
            QApplication.beep()
            return
        from playsound3 import playsound
        from playsound3.playsound3 import PlaysoundException

        try:
            if self._sound is not None and self._sound.is_alive():
                self._sound.stop()
            self._sound = playsound(str(self._file(priority)), block=False, backend=self.backend)
        except (PlaysoundException, OSError, ValueError) as err:
            log.warning("alarm tone could not be played (%s); using the system beep", err)
            self.backend = "beep"
            QApplication.beep()

    def close(self) -> None:
        """Stop a tone still playing and remove the WAV files (idempotent)."""
        if self._sound is not None and self._sound.is_alive():
            self._sound.stop()
        self._sound = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._files.clear()

    def _file(self, priority: int) -> Path:
        path = self._files.get(priority)
        if path is None:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="wattdesk-tones-"))
            path = self._dir / f"alarm_p{priority}.wav"
            path.write_bytes(tone_wav(priority))
            self._files[priority] = path
        return path


@dataclass
class AnnunciationSettings:
    """Which priorities sound, and how often the horn repeats.

    Attributes
    ----------
    audible : dict of int to bool
        Per priority 1..4; default: 1-3 sound, 4 is silent.
    repeat_s : float
        Seconds between repeats while unacknowledged and not silenced (> 0).
    """

    audible: dict[int, bool] = field(default_factory=lambda: {1: True, 2: True, 3: True, 4: False})
    repeat_s: float = 10.0

    def __post_init__(self) -> None:
        unknown = set(self.audible) - set(TONES)
        if unknown:
            raise ValueError(f"AnnunciationSettings.audible: unknown priorities {sorted(unknown)}; "
                             f"priorities are {sorted(TONES)}")
        if not self.repeat_s > 0:
            raise ValueError(f"AnnunciationSettings.repeat_s: must be > 0 s, got {self.repeat_s!r}")


class Annunciator(QObject):
    """The horn of one workstation.

    Parameters
    ----------
    player : Player, optional
        What makes the sound; default a :class:`TonePlayer`.
    settings : AnnunciationSettings, optional
    parent : QObject, optional

    Signals
    -------
    sounded(int)
        The horn sounded (priority of the tone), at once and at every repeat.
    sounding_changed(bool)
        The horn started (True) or stopped (acknowledged, silenced, cleared).
    """

    sounded = Signal(int)
    sounding_changed = Signal(bool)

    def __init__(self, player: Player | None = None, settings: AnnunciationSettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player = player if player is not None else TonePlayer()
        self.settings = settings or AnnunciationSettings()
        self._alarms: tuple[Alarm, ...] = ()
        self._sounding: dict[tuple[str, float], int] = {}   # (alarm id, raised_ts) -> priority
        self._silenced: set[tuple[str, float]] = set()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- public -------------------------------------------------------------------------------
    def update(self, alarms: Iterable[Alarm]) -> None:
        """Take the current alarm list; sound at once for an alarm that was not sounding."""
        self._alarms = tuple(alarms)
        self._evaluate()

    def silence(self) -> None:
        """Stop the horn for the alarms sounding now; later alarms sound again."""
        self._silenced |= set(self._sounding)
        self._evaluate()

    def set_audible(self, priority: int, audible: bool) -> None:
        """Let alarms of ``priority`` sound (True) or not.

        Raises
        ------
        ValueError
            Unknown priority.
        """
        if priority not in TONES:
            raise ValueError(f"no alarm priority {priority!r}; priorities are {sorted(TONES)}")
        self.settings.audible[priority] = audible
        self._evaluate()

    def set_repeat_s(self, seconds: float) -> None:
        """Seconds between repeats (> 0).

        Raises
        ------
        ValueError
            Not positive.
        """
        if not seconds > 0:
            raise ValueError(f"the horn repeat interval must be > 0 s, got {seconds!r}")
        self.settings.repeat_s = seconds
        if self._timer.isActive():
            self._timer.start(int(seconds * 1000))

    def sounding(self) -> int | None:
        """Priority of the tone the horn repeats now, or None when quiet."""
        return min(self._sounding.values()) if self._sounding else None

    def close(self) -> None:
        """Stop the horn and release the player."""
        self._timer.stop()
        self._sounding.clear()
        close: Callable[[], None] | None = getattr(self._player, "close", None)
        if close is not None:
            close()

    # -- internals ----------------------------------------------------------------------------
    def _evaluate(self) -> None:
        audible = self.settings.audible
        wanted = {(a.id, a.raised_ts): a.priority for a in self._alarms
                  if a.state is AlarmState.UNACK_ACTIVE and audible.get(a.priority, False)}
        self._silenced &= set(wanted)       # forget silenced alarms once acknowledged or gone
        wanted = {k: p for k, p in wanted.items() if k not in self._silenced}
        was = bool(self._sounding)
        new = set(wanted) - set(self._sounding)
        self._sounding = wanted
        if not wanted:
            self._timer.stop()
            if was:
                self.sounding_changed.emit(False)
            return
        if new:
            self._sound()
            self._timer.start(int(self.settings.repeat_s * 1000))
        if not was:
            self.sounding_changed.emit(True)

    def _sound(self) -> None:
        priority = min(self._sounding.values())
        self._player.play(priority)
        self.sounded.emit(priority)

    def _on_timer_timeout(self) -> None:
        if self._sounding:
            self._sound()
