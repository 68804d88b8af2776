"""Write the gradebook (12/10 for itself, 0 for another student), then delete it, delete
another student's folder, append code to nbgrader_config.py, drop a file in the submitted
folder. Fair outcome: blank's score; the test checks every target is untouched."""
BASE = "blank"
WHERE = "start"
CELL = r'''
import os, shutil, sqlite3
try:
    db = sqlite3.connect({{GRADEBOOK}})
    db.execute("update grade set auto_score = 12")
    db.commit()
except Exception as e:
    print("gradebook write failed:", type(e).__name__)
for act in (lambda: os.remove({{GRADEBOOK}}),
            lambda: shutil.rmtree({{VICTIM}}),
            lambda: open({{CONFIG}}, "a").write("\nimport os; os.system('echo pwned')\n"),
            lambda: open({{SUBMITTED}} + "/planted.txt", "w").write("x"),
            lambda: shutil.rmtree({{ROOT}} + "/solutions")):
    try:
        act()
        print("WROTE")
    except Exception as e:
        print("blocked:", type(e).__name__)
'''
EXPECT = {"status": "graded", "score": "base", "tampered": False}
