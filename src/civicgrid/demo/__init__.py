"""``civicgrid demo``: a fictional 街道 (示范街道) with communities, grids, buildings, units, departments,
one account per role and a year of cases, built deterministically from a seed.

- :mod:`.geography` — the 网格 lattice that tiles the street exactly, communities, 专属网格;
- :mod:`.buildings` — 小区/楼栋/楼宇 and 企业/商户/单位 per grid;
- :mod:`.names` — syllable lists and generators (names, addresses, credit codes, ``1xx0555xxxx`` phones);
- :mod:`.people` — 处置部门, the eight demo accounts (password :data:`.people.DEMO_PASSWORD`) and staff;
- :mod:`.cases` — a year of cases: older history bulk-inserted, the recent weeks replayed through the services;
- :mod:`.builder` — puts it together idempotently (the street is found by its code).
"""
