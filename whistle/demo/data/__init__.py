"""The facts the demo city is built from: names, codes and rules, kept apart from the code.

Geometry is not stored here; it is generated from these facts and a seed
(see ``whistle.demo.geometry``).
"""
