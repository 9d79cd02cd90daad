"""Small notebooks shaped like a team's MNIST_classification.ipynb, built with nbformat (ffnn check's tests).

A notebook has the team comment on top, then per network a heading, a training
cell that prints the template's progress lines (given accuracies), and a plot
cell with an image output; each piece can be left out.
"""
import base64

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
TEAM = "# Team 7\n\nMembers:\n- Ada Lovelace, 1234567\n- Alan Turing, 7654321\n"


def stream(text):
    return new_output("stream", name="stdout", text=text)


def image():
    return new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"})


def scratch_lines(accs):
    return "".join(f"Epoch: {i}, Training Time: 1.20s, Training Accuracy: {100 * a:.2f}%, "
                   f"Validation Accuracy: {100 * a - 1:.2f}%\n" for i, a in enumerate(accs, 1))


def torch_lines(accs):
    return "".join(f"Epoch: {i}, Learning Rate: 1.5, Training Accuracy: {a:.4f}, Validation Accuracy: {a:.4f}\n"
                   for i, a in enumerate(accs, 1))


def keras_lines(accs):
    n = len(accs)
    return "".join(f"Epoch {i}/{n}\n800/800 [==============================] - 3s 4ms/step - loss: 0.05 - "
                   f"accuracy: {a:.4f} - val_loss: 0.06 - val_accuracy: {a:.4f}\n" for i, a in enumerate(accs, 1))


def notebook(team=TEAM, scratch=(0.6, 0.8, 0.9), torch=(0.5, 0.7), keras=(0.4, 0.6, 0.8, 0.9),
             plots=("scratch", "torch", "tf")):
    cells = [new_markdown_cell(team)] if team is not None else []
    cells.append(new_code_cell("import numpy as np\nfrom network_scratch import NeuralNetwork\n"
                               "from network_pytorch import NeuralNetworkTorch\n"
                               "from network_tensorflow import NeuralNetworkTf, TimeBasedLearningRate"))
    parts = (("scratch", "## Part A: from scratch", "nn = NeuralNetwork([784, 128, 64, 10], learning_rate=1.5)\n"
              "history = nn.fit(x_train, y_train, x_val, y_val)", scratch_lines(scratch)),
             ("torch", "## Part B: PyTorch", "model = NeuralNetworkTorch([784, 128, 64, 10])\n"
              "history = model.fit(train_loader, val_loader)", torch_lines(torch)),
             ("tf", "## Part C: TensorFlow", "net = NeuralNetworkTf(sizes=[784, 128, 32, 10])\n"
              "history = net.compile_and_fit(x_train, y_train, validation_data=(x_val, y_val))", keras_lines(keras)))
    for network, heading, train, printed in parts:
        cells.append(new_markdown_cell(heading))
        cells.append(new_code_cell(train, outputs=[stream(printed)] if printed else []))
        cells.append(new_markdown_cell("### Evaluation"))
        cells.append(new_code_cell("plt.plot(history['accuracy'])\nplt.plot(history['val_accuracy'])",
                                   outputs=[image()] if network in plots else []))
    return new_notebook(cells=cells)
