# Copyright (c) 2026 waent.onprem developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Conformance suite of the Webapp/Coreapp simulator (issue 10): the images checked from outside.

A package, so that pytest puts ``tests/simulator`` on ``sys.path``: the helpers import as
``conformance.<module>`` and the simulator's own package as ``waent_sim``.
"""
