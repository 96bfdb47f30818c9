"""Dropout Lab's lab, built on the ``dropouts`` library: the registry of methods and views with
their text for the page (``registry``), the code snippets (``snippets``), each view's frames,
statistics and theory (``views``), the trained demos (``training``, ``compression``,
``uncertainty``, ``memory``) and what serves them (``flights``, ``budget``, ``stopping``).

It knows nothing of HTTP (``app/`` serves it); the library knows nothing of it.
"""
