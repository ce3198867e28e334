module PaFas.Tests.HostTorchTests

open Expecto
open TorchSharp
open PaFas.Host.Model

let tests =
    testSequenced
    <| testList
        "HostTorch"
        [ test "libtorch loads on this machine and a matmul gives the right numbers" {
              TorchRuntime.EnsureLoaded()
              use a0 = torch.tensor([| 1.0f; 2.0f; 3.0f; 4.0f |])
              use a = a0.reshape(2L, 2L)
              use b0 = torch.tensor([| 5.0f; 6.0f; 7.0f; 8.0f |])
              use b = b0.reshape(2L, 2L)
              use c = torch.matmul(a, b)
              let v = c.data<float32>().ToArray()
              Expect.equal v [| 19.0f; 22.0f; 43.0f; 50.0f |] "2x2 matmul"
          }
          test "asking for CUDA on a CPU build gives a clear error" {
              if not (torch.cuda.is_available()) then
                  Expect.throwsT<PaFas.Host.IO.UsageException> (fun () -> TorchRuntime.ResolveDevice "cuda" |> ignore) "cuda absent: a bad command line (exit 2)"
          } ]
