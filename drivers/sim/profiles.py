"""Load shapes of the demo plant: BDEW standard load profiles and the TRY reference weather.

Both come from the ``demandlib`` package:

* the BDEW standard load profiles of 2025 (``demandlib.bdew.G25`` commerce,
  ``H25`` households, ``L25`` agriculture), 15-minute average power over a
  calendar year with their own weekday / Saturday / Sunday-holiday shapes per
  month, built for the site's current local year;
* the DWD test reference year ``TRY2010_<region>_Jahr.dat`` shipped in
  ``demandlib/vdi/resources_weather`` (hourly outdoor temperature, °C), read with
  ``demandlib.vdi.dwd_try.read_dwd_weather_file``.

The older ``demandlib.bdew.ElecSlp`` (G0..G6, H0) cannot be used with pandas 3:
it turns every warning into an error (``warnings.simplefilter("error")``) and then
calls pandas' deprecated ``inplace=`` arguments, so it raises ``Pandas4Warning``.

Profiles are looked up by *local wall-clock time* (site time zone): the profile's
day of year and time of day are those of "now" at the site.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

#: demandlib profile classes by the name used in demo.sim.yaml
BDEW_PROFILES = ("g25", "h25", "l25")


@functools.lru_cache(maxsize=16)
def bdew_year(name: str, year: int) -> np.ndarray:
    """One year of a BDEW 2025 standard load profile, normalised to its maximum.

    Parameters
    ----------
    name : {"g25", "h25", "l25"}
        Profile: commerce (G25), households (H25, dynamic), agriculture (L25).
    year : int
        Calendar year (local time); weekdays and holidays follow that year's calendar.

    Returns
    -------
    numpy.ndarray
        float64, shape (days_in_year * 96,): 15-minute average power divided by the
        year's maximum (0..1], index 0 = 1 January 00:00-00:15 local time.

    Raises
    ------
    ValueError
        Unknown profile name.
    """
    from demandlib import bdew

    classes = {"g25": bdew.G25, "h25": bdew.H25, "l25": bdew.L25}
    if name not in classes:
        raise ValueError(f"unknown BDEW profile {name!r}; expected one of {', '.join(BDEW_PROFILES)}")
    index = pd.date_range(dt.datetime(year, 1, 1), dt.datetime(year, 12, 31, 23, 45), freq="15min")
    with warnings.catch_warnings():
        # demandlib 0.2.2 still passes pandas' deprecated inplace= arguments
        warnings.simplefilter("ignore", DeprecationWarning)
        series = classes[name](index)
    values = series.to_numpy(dtype=float)
    return values / values.max()


def bdew_factor(name: str, local: dt.datetime) -> float:
    """BDEW profile value at a local wall-clock time, linearly interpolated.

    Parameters
    ----------
    name : {"g25", "h25", "l25"}
    local : datetime.datetime
        Site local time (naive or aware; only its calendar fields are used).

    Returns
    -------
    float
        Share of the profile's yearly maximum, 0..1. The 15-minute values are taken
        at the middle of their interval and interpolated in between.
    """
    values = bdew_year(name, local.year)
    minutes = (local.timetuple().tm_yday - 1) * 1440 + local.hour * 60 + local.minute + local.second / 60
    position = minutes / 15.0 - 0.5
    i = math.floor(position)
    frac = position - i
    a = values[min(max(i, 0), len(values) - 1)]
    b = values[min(max(i + 1, 0), len(values) - 1)]
    return float(a + (b - a) * frac)


@functools.lru_cache(maxsize=16)
def try_temperatures(region: int) -> np.ndarray:
    """Hourly outdoor temperature of a DWD test reference year shipped with demandlib.

    Parameters
    ----------
    region : int
        TRY region 1..15 (file ``TRY2010_<region:02d>_Jahr.dat``).

    Returns
    -------
    numpy.ndarray
        float64, shape (8760,), °C; index 0 is the hour ending 01:00 on 1 January.

    Raises
    ------
    ValueError
        Region outside 1..15.
    """
    import demandlib
    from demandlib.vdi.dwd_try import read_dwd_weather_file

    if not 1 <= region <= 15:
        raise ValueError(f"TRY region must be 1..15, got {region}")
    path = Path(demandlib.__file__).parent / "vdi" / "resources_weather" / f"TRY2010_{region:02d}_Jahr.dat"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # demandlib's pandas inplace= calls
        weather = read_dwd_weather_file(str(path))
    return weather["TAMB"].to_numpy(dtype=float)


def outdoor_temperature(region: int, local: dt.datetime) -> float:
    """Outdoor temperature of the reference year at a local time, °C.

    The hourly values (each for the hour ending at HH) are interpolated linearly;
    29 February reuses 28 February.

    Parameters
    ----------
    region : int
        TRY region 1..15.
    local : datetime.datetime
        Site local time.

    Returns
    -------
    float
        °C.
    """
    temps = try_temperatures(region)
    day = local.timetuple().tm_yday - 1
    leap = local.year % 4 == 0 and (local.year % 100 != 0 or local.year % 400 == 0)
    if leap and day >= 59:
        day -= 1
    hours = day * 24 + local.hour + local.minute / 60 + local.second / 3600
    position = hours - 1.0
    i = math.floor(position)
    frac = position - i
    a = temps[i % len(temps)]
    b = temps[(i + 1) % len(temps)]
    return float(a + (b - a) * frac)


def schedule_factor(schedule: list[tuple[float, float, float]], local: dt.datetime) -> float:
    """Level of a time-switch schedule at a local time.

    Parameters
    ----------
    schedule : list of (start_h, end_h, level)
        Local hours 0..24 and the level (0..1) between them; later entries win.
    local : datetime.datetime

    Returns
    -------
    float
        The level of the last entry covering the time, 0.0 if none does.
    """
    hour = local.hour + local.minute / 60 + local.second / 3600
    level = 0.0
    for start, end, value in schedule:
        if start <= hour < end:
            level = value
    return level
