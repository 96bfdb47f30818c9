"""Views: a method applied to something a person can look at (an image, feature maps, …).

Each view turns registry parameters, a seed and an iteration number into the masks and
statistics that the web app draws; it knows nothing of HTTP.
"""
