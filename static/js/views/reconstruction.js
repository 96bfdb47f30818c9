// Placeholder, replaced below.
export class ReconstructionPanel {
  constructor() {}
  show() {}
  destroy() {}
}
