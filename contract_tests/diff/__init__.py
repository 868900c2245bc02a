"""``capmock diff --a URL --b URL``: the same requests to two targets, and where their
answers drift apart.

One module per job: ``options`` (the option table), ``sides`` (each target, its
profile and preflight), ``plan`` (the cases of ``capmock test`` both get), ``send``
(the requests, both targets at once), ``normalise`` (what must differ), ``compare``
(the drifts), ``suggest`` (what to change), ``baseline`` (known drifts), ``report``
and ``html`` (the outputs), ``run`` (all of it, in order).

Nothing heavy is imported here: ``capmock --help`` reads ``options``.
"""
