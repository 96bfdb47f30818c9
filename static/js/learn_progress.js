// The student's progress through the lesson: which questions were answered and whether the
// guess was right, kept in this browser only (localStorage), never sent anywhere.

const KEY = "dropout-lab.learn";

export function readProgress() {
  try {
    const stored = JSON.parse(window.localStorage.getItem(KEY) ?? "{}");
    return stored && typeof stored === "object" ? stored : {};
  } catch {
    return {};
  }
}

export function recordAnswer(stepId, right) {
  const progress = readProgress();
  progress[stepId] = { right };
  window.localStorage.setItem(KEY, JSON.stringify(progress));
  return progress;
}

export function resetProgress() {
  window.localStorage.removeItem(KEY);
  return {};
}

// "3 of 16 answered, 2 right".
export function progressText(progress, total) {
  const answered = Object.keys(progress).length;
  const right = Object.values(progress).filter((entry) => entry.right).length;
  return answered ? `${answered} of ${total} answered, ${right} right` : `${total} steps; none answered yet`;
}
