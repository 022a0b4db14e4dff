"""The student starter kit, made from the reference: `python -m staff.starter`.

regions.py finds and stubs the solution regions of .py files, notebooks.py strips
notebooks, build.py copies and transforms the shipped files and zips the kit, checks.py
(with leaks.py and files.py) runs the fast static checks on it.
"""
